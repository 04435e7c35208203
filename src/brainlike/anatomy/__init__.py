"""CALC: anatomy tables -> System -> strides -> fitted ArchitectureSpec -> network (Tripp 2019)."""
