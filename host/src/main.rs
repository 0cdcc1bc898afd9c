//! `ferry`: the command line of the Ferry connector host.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
