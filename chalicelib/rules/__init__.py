"""Coverage rules: agreements and regimes as dated, cited data, and the engine that applies them."""
