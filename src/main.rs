use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = hookrelay::cli::Cli::parse();
    match hookrelay::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hookrelay: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
