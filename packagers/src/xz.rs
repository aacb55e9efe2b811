//! xz pieces (work in progress).
