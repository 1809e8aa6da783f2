"""The pure core: models, policy, matching and analysis. Nothing here touches the network."""
