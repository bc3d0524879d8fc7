"""cocotb testbench modules used by the runner's own tests."""
