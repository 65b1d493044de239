"""Reports: everything that reads run directories and shows or exports them."""
