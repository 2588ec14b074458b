"""What the tests share: synthetic scenes and polygons, a feedback that records, the Processing
models the tests build, the report page read back, and the table of bad inputs."""
