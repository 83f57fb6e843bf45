//! WebAssembly bindings of the challenge rule engine (work in progress).
