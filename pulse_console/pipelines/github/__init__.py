"""The GitHub sync pipeline, in the slots every source fills (see `pulse_console.pipelines`)."""
