"""Block Kit builders: structure in Python, words from the runbook's templates."""
