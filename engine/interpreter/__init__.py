"""The restricted interpreter behind ``engine.expressions``: each module holds one of its ideas.

``check`` refuses what may not run, ``run`` walks what may, ``budget`` bounds its time and steps,
``sizes`` and ``cost`` price each operation before it runs, ``script_engine`` plugs it into
SpiffWorkflow. Callers import from ``engine.expressions``, the public face.
"""
