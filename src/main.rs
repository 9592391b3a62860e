//! The `teplokarta` binary: parses the command line, then runs a headless command or opens the
//! window.

use clap::Parser as _;
use teplokarta::app::{Startup, run_gui};
use teplokarta::cli::{Cli, LangArg, run};
use teplokarta::ui::Lang;

fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,teplokarta=info"),
    )
    .init();
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(command) => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            run(command, &mut lock)
        }
        None => match cli
            .db
            .as_ref()
            .map(|db| teplokarta::cli::with_table(db, cli.table.as_deref()))
            .transpose()
        {
            Err(err) => Err(err),
            Ok(database) => run_gui(Startup {
                database,
                boundaries: cli.boundaries.boundaries.clone(),
                name_property: cli.boundaries.name_property.clone(),
                lang: cli.lang.map(|l| match l {
                    LangArg::Ru => Lang::Ru,
                    LangArg::En => Lang::En,
                }),
                fresh: cli.fresh,
                basemap: cli
                    .basemap
                    .as_deref()
                    .map(|b| teplokarta::tiles::choice::BasemapChoice::parse(b, cli.tms)),
                export_runner: Some(teplokarta::cli::export_with_args),
                strategy: cli.load_strategy(),
                ..Startup::default()
            }),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
