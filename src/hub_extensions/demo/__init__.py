"""`hub-extensions demo`: a real local hub on 127.0.0.1 with the suite wired in."""
