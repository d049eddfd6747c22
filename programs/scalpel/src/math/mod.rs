//! Pure, checked, fixed-point math shared by the program, the client, the bot and the CLI.
//! Nothing here touches accounts; every function returns a `MathResult` instead of panicking.

pub mod bad_debt;
pub mod fixed;
pub mod health;
pub use self::health::*;
pub mod interest;
pub mod liquidation;
pub mod shares;

pub use self::fixed::*;
