"""Third-party systems the project installs and runs for development, tests and benchmarks (not shipped in the app)."""
