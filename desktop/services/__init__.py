"""QObjects living in the GUI thread: they own the core objects and re-emit typed signals."""
