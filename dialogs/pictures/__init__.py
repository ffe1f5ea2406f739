"""Pictures the bot sends as photos: charts of progress and results, and certificates (PNG,
drawn with matplotlib's Agg backend, imported only when the first picture is drawn)."""
