"""Everything that needs torch: building modules, weights, folding, runtimes, measurements."""
