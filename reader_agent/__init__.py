"""Counter-PC agent that reads the Belgian eID for the loyalty server; imports no Django."""
