//! Rebuild the host when a migration is added or edited: `sqlx::migrate!`
//! embeds `migrations/` at compile time, and on stable Rust cargo does not
//! learn from the macro that the crate reads that directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
