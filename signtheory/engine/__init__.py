"""The run engine: draws, evaluation plan, compiled recording, replicates, traces."""
