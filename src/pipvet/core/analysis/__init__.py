"""Static inspection of package artifacts: reads bytes, never imports or executes them."""
