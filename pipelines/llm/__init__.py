"""LLM providers behind one small interface: Ollama, any OpenAI-compatible server."""
