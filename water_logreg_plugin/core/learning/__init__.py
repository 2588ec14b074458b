"""From labelled polygons to a fitted line, without the model's shape: sampling.py takes the
pixels under the polygons, split.py holds out whole polygons, solver.py fits the logistic
regression exactly, metrics.py and calibration.py score probabilities against labels,
class_field.py picks the polygon layer's class field. Built on raster/ only.
"""
