//! The `tlsferry` binary: everything is in [`tlsferry::cli`].

fn main() -> std::process::ExitCode {
    tlsferry::cli::main()
}
