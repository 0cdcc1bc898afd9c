//! A plain `wasi:cli/command` program: a valid component of another world,
//! which `ferry install` must refuse.
fn main() {
    println!("I am not a connector");
}
