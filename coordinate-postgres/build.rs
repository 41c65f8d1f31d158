//! Rebuilds the crate when a migration changes: `embed_migrations!` reads
//! the `migrations` directory at compile time but cargo does not know that.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
