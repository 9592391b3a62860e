//! Importing the exports people actually have into a database that follows the contract:
//! reading CSV (any of the usual encodings and delimiters), Excel and GeoJSON files as tables
//! ([`read`]), mapping their columns to the contract's fields and parsing dates, coordinates and
//! statuses ([`parse`]), and writing them in one transaction, without duplicates, with a report
//! of every rejected row ([`write`]).

pub mod parse;
pub mod read;
pub mod write;
