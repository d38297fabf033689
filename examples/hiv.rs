fn main() { let s = sibsim::scenario::load(std::path::Path::new("scenarios/hiv-chancellor.toml")).unwrap(); println!("{:?}", sibsim::model::expected::expected(&s).named()); }
