mod admin_config;
mod governance;
mod legacy_oracle;
mod liquidation;
mod rejections;
mod user_flows;
