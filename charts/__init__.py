"""Charts drawn for `/news` replies: the data a reply carries (`figure_chart.FigureChart`), the PNG drawn
from it, and a one-line text sparkline for terminals. Imports nothing of ours; matplotlib only when drawn."""
