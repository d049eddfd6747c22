mod legacy_oracle;
mod rejections;
mod user_flows;
