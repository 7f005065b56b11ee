"""Train a keras_classics model with model.fit under tf.distribute, with its paper's recipe.

    python train/main.py --model resnet18                      # bundled Fashion-MNIST
    python train/main.py --model inception_v4 --dataset imagenet --data_dir /data/tfrecords
    python train/main.py --helpfull                            # every flag

The same command run again resumes from the last epoch's backup in --model_dir. The flags are
keras_classics/training/config.py's RunConfig fields (keras_classics/training/cli.py).
"""

from keras_classics_train import main

if __name__ == "__main__":
    main()
