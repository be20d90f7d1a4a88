"""The application built on the library: the training loop (`train`), the `tensorgrad`
command (`cli`) and its plots (`plotting`). The library never imports from here."""
