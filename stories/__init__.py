"""Story intelligence: clean text, detect the beat, fold duplicates into stories, extract key figures."""
