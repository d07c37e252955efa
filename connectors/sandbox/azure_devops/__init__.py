"""Azure DevOps simulator: the generated organisation (``model``), its JSON (``render``), the
HTTP app (``app``), WIQL (``wiql``) and TSTU throttling (``throttle``)."""

from connectors.sandbox.azure_devops.app import AzureDevOpsSimulator
from connectors.sandbox.azure_devops.model import AdoOrg
from connectors.sandbox.azure_devops.throttle import TstuPolicy

__all__ = ["AdoOrg", "AzureDevOpsSimulator", "TstuPolicy"]
