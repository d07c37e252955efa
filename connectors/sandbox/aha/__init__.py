"""Aha! API v1 simulator over the generated organisation.

In-process::

    aha = AhaOrg(org, features=500)
    sim = AhaSimulator(aha)            # 20/s and 300/min enforced; faults optional
    AhaClient.connect("https://sandbox.aha.io", Secret(DEMO_AHA_KEY),
                      transport=httpx.MockTransport(sim.handle))

On the socket server: ``SandboxServer({"aha": sim.handle, ...})``; the Aha! base URL is then
``server.base_urls["aha"]`` (the client adds ``/api/v1``).
"""

from connectors.sandbox.aha.app import DEMO_AHA_KEY, AhaSimulator
from connectors.sandbox.aha.model import AhaMutation, AhaOrg

__all__ = ["DEMO_AHA_KEY", "AhaMutation", "AhaOrg", "AhaSimulator"]
