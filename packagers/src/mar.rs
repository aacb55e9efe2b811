//! MAR files (work in progress).
