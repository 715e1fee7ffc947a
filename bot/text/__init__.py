"""Chinese text handling shared by the router and the retriever: normalisation, tokenising."""
