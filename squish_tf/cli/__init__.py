"""absl entry points: each reads its flags in `main` and calls one library function."""
