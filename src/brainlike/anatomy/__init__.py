"""CALC: anatomy tables -> System -> strides -> fitted ArchitectureSpec -> network (Tripp 2019).

`tables` loads the shipped data, `system` and `macaque` build Systems, `strides` draws stride
patterns, `problem` states the cost, `fit` runs an optimiser (`lsq`, `lbfgs`, `adam`, behind
`optimiser`) and `spec` turns the result into the ArchitectureSpec that `models.calc` builds.
"""
