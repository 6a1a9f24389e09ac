"""In-memory implementations of the use cases' ports, each checked by the contract suites
(``tests/contract``) against the real adapter it stands in for."""
