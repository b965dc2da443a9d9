"""Files archlab reads and writes: atomic writes, images, the sweep store. Any tier may use it."""
