//! SceneBrush: paint a semantic label map and synthesize a photo from it with SPADE and CC-FPSE
//! generators run through ONNX Runtime.
pub mod canvas;
pub mod cli;
pub mod edit;
pub mod inference;
pub mod io;
pub mod models;
pub mod paths;
pub mod style;
pub mod training;
pub mod ui;
