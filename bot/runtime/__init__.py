"""The running process: the composition root, the worker, the scheduler adapter, the transports."""
