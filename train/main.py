"""Train a keras_classics model: `python -m keras_classics.train` from a checkout.

    python train/main.py --model resnet18                      # bundled Fashion-MNIST
    python train/main.py --model inception_v4 --dataset imagenet --data_dir /data/tfrecords
    python train/main.py --helpfull                            # every flag

The same command run again resumes from the last epoch's backup in --model_dir. The program is
keras_classics/train.py; the flags are keras_classics/training/config.py's fields.
"""

from keras_classics.train import main

if __name__ == "__main__":
    main()
