"""Case work after the decision, per child (issue 14): parties, support and sanctions,
parents kept informed, the child's voice, checking back, notices. No Flask here.

Each module is one area of the anti-bullying policy's "Responding" and "Supporting
pupils" sections; each record is an operation that writes its audit event
(portal.events) and flushes, never commits.
"""
