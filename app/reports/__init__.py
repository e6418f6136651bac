"""月度报表: month-end tier counts, ladder view, flows, targets and lapses; closed months, restatements."""
