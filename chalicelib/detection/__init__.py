"""Trip detection: places in events -> presence -> Trips with purpose, confidence and evidence."""
