use clap::Parser;

/// mimalloc instead of glibc's allocator: under load a third of hookrelay's own CPU time
/// went to glibc's malloc and free (rows, request and response buffers per attempt).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
