"""Access control: who a request is (keys, session tokens), what it may see, and its limits."""
