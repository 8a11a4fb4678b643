from .application import main

main()
