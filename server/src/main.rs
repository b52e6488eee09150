use clap::Parser;
use gridmap::cli::{Cli, Command};
use gridmap::commands;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    gridmap::cli::set_db_pool(usize::from(cli.db_pool));
    match cli.command {
        None => serve(gridmap::cli::ServeArgs::from_env()),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Import(cmd)) => commands::import::run(&cmd),
        Some(Command::Export(cmd)) => commands::export::run(&cmd),
        Some(Command::Demo(args)) => commands::demo::run(&args),
        Some(Command::Check(args)) => commands::check::run(&args),
        Some(Command::Assign(args)) => commands::assign::run(&args),
        Some(Command::Board(args)) => commands::board::run(&args),
        Some(Command::User(cmd)) => commands::user::run(&cmd),
        Some(Command::Copy(args)) => commands::copy::run(&args),
    }
}

fn serve(args: gridmap::cli::ServeArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(commands::serve::run(args))
}
