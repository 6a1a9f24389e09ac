"""Use-case tests over in-memory fakes: no HTTP, no threads, milliseconds each."""
