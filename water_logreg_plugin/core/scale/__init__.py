"""One model over many scenes: scenes.py what one scene of a batch is (its output name, its
result, why it failed), batch.py the scenes here one after another, cluster.py the same on Dask.
Built on maps/ and dates/.
"""
